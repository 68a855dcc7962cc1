@echo off
rem Starts the Lifeline console; winpeshl.ini runs this after wpeinit.
rem WinPE reboots when its shell ends, which would lose the console (and a running restore's
rem screen), so an exit restarts it. After 5 exits in a row it opens a command prompt instead of
rem looping: the technician can read exits.log; leaving that prompt reboots the machine.
setlocal EnableExtensions
set "LIFELINE=X:\Lifeline"
rem --state keeps settings applied in the console across restarts (X: lasts until reboot).
set "ARGS=appliance --state %LIFELINE%\state"
if exist "%LIFELINE%\settings.json" set "ARGS=%ARGS% --settings %LIFELINE%\settings.json"
set /a FAILS=0
:run
"%LIFELINE%\lifeline.exe" %ARGS%
set "CODE=%ERRORLEVEL%"
>>"%LIFELINE%\exits.log" echo %DATE% %TIME% lifeline.exe exited with code %CODE%
set /a FAILS+=1
if %FAILS% GEQ 5 goto prompt
echo The Lifeline console stopped (exit code %CODE%). Restarting it in 5 seconds...
rem WinPE has no timeout.exe in every build; ping waits about one second per echo.
ping -n 6 127.0.0.1 >nul
goto run
:prompt
echo The Lifeline console stopped %FAILS% times; see %LIFELINE%\exits.log.
echo Run %LIFELINE%\start.cmd to start it again. Typing exit restarts the machine.
cmd.exe /k
