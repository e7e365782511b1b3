@echo off
rem tessera.ps1 whatever the PowerShell execution policy. Usage: tessera.cmd demo [model.gguf], tessera.cmd test, tessera.cmd build
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0tessera.ps1" %*
exit /b %ERRORLEVEL%
