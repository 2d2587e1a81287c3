# Installs the cloud credential helpers on Windows from the unpacked release
# zip: docker-credential-ecr-login.exe (beside this script) is copied into
# the install directory, the other three names are created as hardlinks of
# it (one runtime on disk), and the directory is added to the user's PATH.
#
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-Destination DIR] [-Registries a,b,...]
#
#   -Destination DIR   default: %LOCALAPPDATA%\Programs\cloud-credential-helpers
#   -Registries a,b    then add credHelpers entries for these registries to
#                      %USERPROFILE%\.docker\config.json (Docker Desktop reads it),
#                      each sent to the helper of its cloud
param(
  [string]$Destination = (Join-Path $env:LOCALAPPDATA 'Programs\cloud-credential-helpers'),
  [string]$Registries = ''
)
$ErrorActionPreference = 'Stop'

$names = @('docker-credential-ecr-login', 'docker-credential-gcr', 'docker-credential-acr', 'docker-credential-oci')
$source = Join-Path $PSScriptRoot "$($names[0]).exe"
if (-not (Test-Path -LiteralPath $source -PathType Leaf)) {
  throw "install.ps1: $source not found: run this script from the unpacked zip"
}

New-Item -ItemType Directory -Force -Path $Destination | Out-Null
$primary = Join-Path $Destination "$($names[0]).exe"
# Copy under a temporary name, then move into place: a failed copy leaves the old install.
$temp = "$primary.new"
Copy-Item -LiteralPath $source -Destination $temp -Force
foreach ($name in $names) {
  $file = Join-Path $Destination "$name.exe"
  if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force }
}
Move-Item -LiteralPath $temp -Destination $primary
foreach ($name in $names[1..($names.Length - 1)]) {
  New-Item -ItemType HardLink -Path (Join-Path $Destination "$name.exe") -Target $primary | Out-Null
}
Write-Host "installed $($names -join ', ') in $Destination (hardlinks of one executable)"

$userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
if (-not $userPath) { $userPath = '' }
if (-not (($userPath -split ';') -contains $Destination)) {
  $newPath = (@($userPath.TrimEnd(';'), $Destination) | Where-Object { $_ }) -join ';'
  [Environment]::SetEnvironmentVariable('Path', $newPath, 'User')
  Write-Host "added $Destination to your PATH: open a new terminal (and restart Docker Desktop) to use it"
}

if ($Registries) {
  & $primary configure docker --registries $Registries
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
