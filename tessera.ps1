<#
.SYNOPSIS
  tessera set-up on Windows 10/11, x64 or ARM64 (Snapdragon X): installs what is missing with
  winget, enters the Visual Studio developer environment, builds with CMake + vcpkg, runs a job.

.DESCRIPTION
  .\tessera.ps1 demo [model.gguf]   build, then run the main job (the factory's demo model when no
                                    file is given: random weights, its text is noise)
  .\tessera.ps1 test                build, then run the whole test suite with CTest
  .\tessera.ps1 build               only install and build

  If PowerShell refuses to run scripts (the default execution policy), use tessera.cmd, which
  runs this script with -ExecutionPolicy Bypass: .\tessera.cmd demo

  What it installs with winget when missing: Git (Git.Git), Visual Studio 2022 Build Tools with the
  C++ workload and the x64 and ARM64 compilers (Microsoft.VisualStudio.2022.BuildTools; an
  existing Visual Studio 2022 or later with those components is used instead), the LunarG Vulkan
  SDK (KhronosGroup.VulkanSDK: glslc, validation layers), and CMake / Ninja only when the ones in
  Visual Studio are missing or older than CMake 3.25. vcpkg: the one in Visual Studio (VCPKG_ROOT
  in its developer environment), else a clone in %LOCALAPPDATA%\tessera\vcpkg. The libraries
  (CLI11, nlohmann-json, volk, Vulkan headers, GoogleTest) come from vcpkg.json at configure time.

  Configure preset: msvc-arm64 on an ARM64 Windows, msvc-x64 otherwise (cmake/presets/windows.json).
  -Preset (or TESSERA_PRESET) picks another: msvc-x64, msvc-arm64, clang-cl-x64, clang-cl-arm64.
  -NoInstall only checks: it stops with the command to run instead of installing anything.
#>
[CmdletBinding()]
param(
  [Parameter(Position = 0)] [ValidateSet('demo', 'test', 'build')] [string] $Command = 'demo',
  [Parameter(Position = 1)] [string] $Model = '',
  [string] $Preset = $env:TESSERA_PRESET,
  [switch] $NoInstall
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = $PSScriptRoot
# A model path is relative to where the command was typed, not to the repository.
if ($Model) { $Model = [IO.Path]::GetFullPath([IO.Path]::Combine((Get-Location).ProviderPath, $Model)) }
Set-Location $root

function Log([string] $msg) { Write-Host "[tessera.ps1] $msg" }
function Fail([string] $msg) { Write-Host "[tessera.ps1] error: $msg" -ForegroundColor Red; exit 1 }

# Runs a native program; stops the script when it exits non-zero.
function Invoke-Checked {
  param([Parameter(Mandatory)] [string] $Exe, [string[]] $Arguments = @())
  & $Exe @Arguments
  if ($LASTEXITCODE -ne 0) { Fail "'$Exe $($Arguments -join ' ')' exited with code $LASTEXITCODE" }
}

# The architecture of Windows itself (not of this PowerShell process, which may be emulated x64).
function Get-HostArch {
  $a = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment').PROCESSOR_ARCHITECTURE
  if ($a -eq 'ARM64') { return 'arm64' }
  return 'x64'
}

# PATH and VULKAN_SDK as the installers left them in the registry (winget installs do not reach
# this session's environment otherwise).
function Update-SessionEnvironment {
  $machine = [Environment]::GetEnvironmentVariable('Path', 'Machine')
  $user = [Environment]::GetEnvironmentVariable('Path', 'User')
  $env:Path = (@($machine, $user, $env:Path) | Where-Object { $_ }) -join ';'
  foreach ($scope in 'User', 'Machine') {
    $sdk = [Environment]::GetEnvironmentVariable('VULKAN_SDK', $scope)
    if ($sdk -and -not $env:VULKAN_SDK) { $env:VULKAN_SDK = $sdk }
  }
}

function Install-WingetPackage {
  param([Parameter(Mandatory)] [string] $Id, [string] $What, [string[]] $Extra = @())
  $cmdline = "winget install --id $Id -e $($Extra -join ' ')"
  if ($NoInstall) { Fail "$What is missing; install it with: $cmdline" }
  if (-not (Get-Command winget -ErrorAction SilentlyContinue)) {
    Fail "$What is missing and winget is not available (install 'App Installer' from the Microsoft Store), or install it by hand: $cmdline"
  }
  Log "installing $What with winget ($Id); it may ask for administrator rights"
  & winget install --id $Id -e --source winget --accept-source-agreements --accept-package-agreements --disable-interactivity @Extra
  # Not fatal by itself (e.g. "installed, restart needed"): the caller checks for what it needs.
  if ($LASTEXITCODE -ne 0) { Log "winget install $Id exited with code $LASTEXITCODE" }
  Update-SessionEnvironment
}

# ---------------------------------------------------------------------------------------------
# What to build
$hostArch = Get-HostArch
if (-not $Preset) { $Preset = "msvc-$hostArch" }
$known = 'msvc-x64', 'msvc-arm64', 'clang-cl-x64', 'clang-cl-arm64'
if ($known -notcontains $Preset) { Fail "unknown preset '$Preset' (known: $($known -join ', '))" }
$targetArch = ($Preset -split '-')[-1]
$clang = $Preset -like 'clang-cl-*'
Log "Windows $hostArch, preset $Preset"

Update-SessionEnvironment

# ---------------------------------------------------------------------------------------------
# Git (vcpkg needs it)
if (-not (Get-Command git -ErrorAction SilentlyContinue)) { Install-WingetPackage -Id 'Git.Git' -What 'Git' }

# ---------------------------------------------------------------------------------------------
# Visual Studio 2022 (or later) with the C++ compilers for the target
$vswhere = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\vswhere.exe'
$components = @('Microsoft.VisualStudio.Component.VC.Tools.x86.x64')
if ($targetArch -eq 'arm64' -or $hostArch -eq 'arm64') { $components += 'Microsoft.VisualStudio.Component.VC.Tools.ARM64' }
if ($clang) { $components += 'Microsoft.VisualStudio.Component.VC.Llvm.Clang' }

function Find-VisualStudio([string[]] $Requires) {
  if (-not (Test-Path $vswhere)) { return $null }
  $vsArgs = @('-latest', '-products', '*', '-version', '[17.0,)', '-property', 'installationPath')
  if ($Requires) { $vsArgs += '-requires'; $vsArgs += $Requires }
  $p = & $vswhere @vsArgs | Select-Object -First 1
  if ($p) { return $p.Trim() }
  return $null
}

$vs = Find-VisualStudio $components
if (-not $vs) {
  $adds = ($components | ForEach-Object { "--add $_" }) -join ' '
  $existing = Find-VisualStudio @()
  if ($existing) {
    $setup = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\setup.exe'
    $modify = "modify --installPath `"$existing`" --add Microsoft.VisualStudio.Workload.VCTools --includeRecommended $adds --passive --norestart"
    if ($NoInstall) { Fail "Visual Studio at $existing lacks the C++ components; add them with: `"$setup`" $modify" }
    Log "adding the C++ components to the Visual Studio at $existing (administrator rights needed)"
    $p = Start-Process -FilePath $setup -ArgumentList $modify -Verb RunAs -Wait -PassThru
    if ($p.ExitCode -ne 0 -and $p.ExitCode -ne 3010) { Fail "the Visual Studio installer failed (exit code $($p.ExitCode))" }
  } else {
    $override = "--wait --passive --norestart --add Microsoft.VisualStudio.Workload.VCTools --includeRecommended $adds"
    Install-WingetPackage -Id 'Microsoft.VisualStudio.2022.BuildTools' -What 'Visual Studio 2022 Build Tools (C++)' -Extra @('--override', $override)
  }
  $vs = Find-VisualStudio $components
  if (-not $vs) { Fail "no Visual Studio with $($components -join ', ') after installing; run the Visual Studio Installer and add them" }
}
Log "Visual Studio: $vs"

# ---------------------------------------------------------------------------------------------
# Vulkan SDK: glslc (shaders are compiled at build time) and the validation layers (tests)
function Test-VulkanSdk { return $env:VULKAN_SDK -and (Test-Path (Join-Path $env:VULKAN_SDK 'Bin\glslc.exe')) }
if (-not (Test-VulkanSdk)) {
  Install-WingetPackage -Id 'KhronosGroup.VulkanSDK' -What 'the LunarG Vulkan SDK'
  if (-not $env:VULKAN_SDK) {
    $latest = Get-ChildItem 'C:\VulkanSDK' -Directory -ErrorAction SilentlyContinue | Sort-Object Name | Select-Object -Last 1
    if ($latest) { $env:VULKAN_SDK = $latest.FullName }
  }
  if (-not (Test-VulkanSdk)) { Fail "Vulkan SDK not found after installing (VULKAN_SDK='$env:VULKAN_SDK'); open a new terminal and retry" }
}
Log "Vulkan SDK: $env:VULKAN_SDK"

# ---------------------------------------------------------------------------------------------
# The developer environment: vcvarsall.bat's variables imported into this session. Native tools
# first; on ARM64 the x64-hosted (emulated) compilers when the native ones are not installed.
$vcvarsArgs = @{
  'x64/x64' = @('x64'); 'x64/arm64' = @('x64_arm64')
  'arm64/arm64' = @('arm64', 'x64_arm64'); 'arm64/x64' = @('arm64_amd64', 'x64')
}["$hostArch/$targetArch"]
$vcvars = Join-Path $vs 'VC\Auxiliary\Build\vcvarsall.bat'
$entered = $false
foreach ($vcvarsArg in $vcvarsArgs) {
  Log "entering the developer environment: vcvarsall.bat $vcvarsArg"
  $lines = & cmd.exe /s /c "`"$vcvars`" $vcvarsArg >nul && set"
  if ($LASTEXITCODE -ne 0) { continue }
  foreach ($line in $lines) {
    if ($line -match '^([^=]+)=(.*)$') { [Environment]::SetEnvironmentVariable($Matches[1], $Matches[2], 'Process') }
  }
  if (Get-Command cl.exe -ErrorAction SilentlyContinue) { $entered = $true; break }
}
if (-not $entered) { Fail "vcvarsall.bat $($vcvarsArgs -join ' / ') did not give a cl.exe for $targetArch" }
if ($clang) {
  $llvmArch = if ($hostArch -eq 'arm64') { 'ARM64' } else { 'x64' }
  $llvm = @((Join-Path $vs "VC\Tools\Llvm\$llvmArch\bin"), (Join-Path $vs 'VC\Tools\Llvm\x64\bin')) | Where-Object { Test-Path (Join-Path $_ 'clang-cl.exe') } | Select-Object -First 1
  if (-not $llvm) { Fail "clang-cl.exe not found under $vs\VC\Tools\Llvm (component Microsoft.VisualStudio.Component.VC.Llvm.Clang)" }
  $env:Path = "$llvm;$env:Path"
}

# CMake >= 3.25 and Ninja: Visual Studio's when it has them, else winget's.
function Test-CMake {
  $c = Get-Command cmake -ErrorAction SilentlyContinue
  if (-not $c) { return $false }
  $first = & cmake --version | Select-Object -First 1
  if ($first -notmatch '(\d+)\.(\d+)') { return $false }
  return ([int]$Matches[1] -gt 3) -or ([int]$Matches[1] -eq 3 -and [int]$Matches[2] -ge 25)
}
if (-not (Test-CMake)) {
  Install-WingetPackage -Id 'Kitware.CMake' -What 'CMake'
  $env:Path = "$(Join-Path $env:ProgramFiles 'CMake\bin');$env:Path"
  if (-not (Test-CMake)) { Fail 'CMake 3.25 or newer is not on PATH' }
}
if (-not (Get-Command ninja -ErrorAction SilentlyContinue)) {
  Install-WingetPackage -Id 'Ninja-build.Ninja' -What 'Ninja'
  if (-not (Get-Command ninja -ErrorAction SilentlyContinue)) { Fail 'ninja is not on PATH (open a new terminal and retry)' }
}

# vcpkg: a full clone (with its ports tree), because vcpkg.json pins no baseline and so takes the
# port versions of the clone it runs from. Visual Studio's bundled vcpkg has no ports tree (it
# needs a baseline), so it is replaced by a clone of our own.
if (-not $env:VCPKG_ROOT -or -not (Test-Path (Join-Path $env:VCPKG_ROOT 'ports')) -or
    -not (Test-Path (Join-Path $env:VCPKG_ROOT 'scripts\buildsystems\vcpkg.cmake'))) {
  $own = Join-Path $env:LOCALAPPDATA 'tessera\vcpkg'
  if (-not (Test-Path (Join-Path $own 'vcpkg.exe'))) {
    if ($NoInstall) { Fail "no vcpkg (VCPKG_ROOT unset); clone https://github.com/microsoft/vcpkg and run bootstrap-vcpkg.bat, then set VCPKG_ROOT" }
    if (-not (Test-Path (Join-Path $own '.git'))) {
      Log "cloning vcpkg into $own"
      Invoke-Checked git @('clone', 'https://github.com/microsoft/vcpkg', $own)
    }
    Invoke-Checked (Join-Path $own 'bootstrap-vcpkg.bat') @('-disableMetrics')
  }
  $env:VCPKG_ROOT = $own
}
Log "vcpkg: $env:VCPKG_ROOT"

# ---------------------------------------------------------------------------------------------
# Build
Log "configuring (cmake --preset $Preset; vcpkg builds the libraries on the first run)"
Invoke-Checked cmake @('--preset', $Preset)
Invoke-Checked cmake @('--build', '--preset', $Preset)
$bin = Join-Path $root "build-$Preset\bin"

switch ($Command) {
  'build' { Log "built: $bin\tessera.exe" }
  'test' {
    Log 'running the test suite'
    Invoke-Checked ctest @('--preset', $Preset)
  }
  'demo' {
    $tessera = Join-Path $bin 'tessera.exe'
    if ($Model) {
      if (-not (Test-Path -LiteralPath $Model -PathType Leaf)) { Fail "no such file: $Model" }
      Write-Host "== model: $Model"
    } else {
      $Model = Join-Path $root "build-$Preset\demo\tessera-demo-small-q4_k_m.gguf"
      Write-Host "== No model given: using the factory's DEMO model (random weights, 'small' preset, Q4_K_M)."
      Write-Host "   Its outputs are meaningless; pass a real Gemma 4 GGUF to see a real model: .\tessera.ps1 demo model.gguf"
      if (-not (Test-Path $Model)) {
        New-Item -ItemType Directory -Force -Path (Split-Path $Model) | Out-Null
        Invoke-Checked (Join-Path $bin 'tessera-factory.exe') @('--preset', 'small', '--type', 'Q4_K_M', '--seed', '1', '-o', $Model)
      }
    }
    Write-Host "`n== Vulkan devices"
    & $tessera devices
    if ($LASTEXITCODE -ne 0) {
      Fail 'no usable Vulkan device: install the GPU vendor''s current driver (Snapdragon X: the latest Qualcomm Adreno driver from the laptop maker or Qualcomm)'
    }
    Write-Host "`n== Model"
    Invoke-Checked $tessera @('info', $Model, '--ctx', '8192')
    Write-Host "`n== Generation: tessera run -m $(Split-Path $Model -Leaf) -p ..."
    Invoke-Checked $tessera @('run', '-m', $Model, '--ctx', '4096', '-p', 'Write a haiku about GPUs.', '-n', '48')
    Write-Host "`n== Throughput (llama-bench style)"
    Invoke-Checked $tessera @('bench', '-q', '-m', $Model, '-p', '128', '-n', '32', '-r', '2')
    Write-Host "`n== Kernels on this device (GPU timestamps)"
    & (Join-Path $bin 'tessera-bench-kernels.exe') --runs 2
    if ($LASTEXITCODE -ne 0) { Write-Host '(kernel benchmark unavailable on this device)' }
    Write-Host "`nChat with it: $tessera chat -m `"$Model`""
    Write-Host "Reporting a bug: attach the output of '$tessera devices --json' and '$tessera bench --json -m <model.gguf>' (see README.md)"
  }
}
