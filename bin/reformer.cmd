@echo off
rem The bin\reformer command on Windows, as bin/reformer is on Linux and macOS: builds the project
rem on first use (and whenever a source or pom is newer than the jar), then runs the command line.
rem The JDK is REFORMER_JAVA, else %JAVA_HOME%'s, else the first java on the PATH (17 or newer).
rem Extra JVM options: REFORMER_JAVA_OPTS. REFORMER_DRY_RUN=1 prints the java command instead.
rem The JVM options are bin/reformer's (see there, and dev.reformer.benchmark.LaunchOptions).
rem Not run on Windows by the project's CI: only resolving Windows' natives is checked (README).
setlocal EnableExtensions EnableDelayedExpansion
set "ROOT=%~dp0.."
set "JAR=%ROOT%\reformer\target\reformer.jar"
set "CLASSPATH_FILE=%ROOT%\reformer\target\classpath.txt"

if defined REFORMER_JAVA (
    set "JAVA=%REFORMER_JAVA%"
) else if defined JAVA_HOME (
    set "JAVA=%JAVA_HOME%\bin\java.exe"
) else (
    set "JAVA=java"
)
"%JAVA%" -version >nul 2>&1 || (
    echo reformer: no Java found; install JDK 17 or newer, or set JAVA_HOME 1>&2
    exit /b 1
)

rem The JDK's feature version: 17 from 'version "17.0.9"', 1 from the old '1.8.0'.
set "FEATURE=0"
for /f "tokens=3" %%v in ('"%JAVA%" -version 2^>^&1 ^| findstr /i /c:"version"') do set "VERSION=%%~v"
for /f "delims=.-+" %%a in ("!VERSION!") do set "FEATURE=%%a"
if !FEATURE! LSS 17 (
    echo reformer: %JAVA% is Java !FEATURE!; the engine needs Java 17 or newer ^(set JAVA_HOME or REFORMER_JAVA^) 1>&2
    exit /b 1
)

set "OPTIONS=--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
if !FEATURE! GEQ 23 set "OPTIONS=!OPTIONS! --sun-misc-unsafe-memory-access=allow"
set "OPTIONS=!OPTIONS! -Xmn64m -Xmx1g -XX:+ExplicitGCInvokesConcurrent"

if defined REFORMER_DRY_RUN (
    echo "%JAVA%" !OPTIONS! %REFORMER_JAVA_OPTS% -cp "%JAR%;<%CLASSPATH_FILE%>" dev.reformer.cli.Main %*
    exit /b 0
)

rem Build when the jar or its classpath is missing, or a source or pom is newer than the jar.
set "BUILD=0"
if not exist "%JAR%" set "BUILD=1"
if not exist "%CLASSPATH_FILE%" set "BUILD=1"
if "!BUILD!"=="0" (
    powershell -NoProfile -Command "$jar = (Get-Item -LiteralPath '%JAR%').LastWriteTime; $newer = Get-ChildItem -Recurse -File -Path '%ROOT%\*\src\main','%ROOT%\pom.xml','%ROOT%\*\pom.xml' | Where-Object { $_.LastWriteTime -gt $jar } | Select-Object -First 1; if ($newer) { exit 1 } else { exit 0 }" >nul 2>&1 || set "BUILD=1"
)
if "!BUILD!"=="1" (
    where mvn >nul 2>&1 || (
        echo reformer: Maven ^(mvn^) is needed to build; install Maven 3.8+ and retry 1>&2
        exit /b 1
    )
    echo reformer: building ^(first use or sources changed; the first build downloads ND4J, about 130 MB^)... 1>&2
    set "LOG=%TEMP%\reformer-build-%RANDOM%.log"
    pushd "%ROOT%"
    call mvn -B -q -DskipTests package -pl reformer -am >"!LOG!" 2>&1
    set "BUILT=!ERRORLEVEL!"
    popd
    if not "!BUILT!"=="0" (
        type "!LOG!" 1>&2
        echo reformer: build failed ^(output above^) 1>&2
        del "!LOG!" >nul 2>&1
        exit /b 1
    )
    del "!LOG!" >nul 2>&1
)

for /f "usebackq delims=" %%c in ("%CLASSPATH_FILE%") do set "DEPENDENCIES=%%c"
"%JAVA%" !OPTIONS! %REFORMER_JAVA_OPTS% -cp "%JAR%;!DEPENDENCIES!" dev.reformer.cli.Main %*
exit /b !ERRORLEVEL!
