#!/usr/bin/env bash
# Builds dist/gpu-check/: a small Java runtime (jlink), the agent jar, run.sh and compare.py, to be
# copied to a machine with a real NVIDIA GPU where `gpu-agent probe --json` is compared with
# nvidia-smi field by field. That machine needs only python3 and the NVIDIA driver (no JDK).
# The bundle must stay under 64 MiB; this script fails if it does not.
#
#   scripts/real-gpu-check/build-bundle.sh [--jar FILE] [--jdk DIR] [--out DIR] [--self-test]
#
#   --jar FILE    the agent jar (default agent/target/gpu-agent.jar; build it with mvn -DskipTests package)
#   --jdk DIR     the JDK 17 whose jlink builds the runtime (default /usr/lib/jvm/java-17-openjdk-amd64,
#                 else $JAVA_HOME). The runtime needs the glibc the JDK was built against, or newer:
#                 Debian 12's needs glibc 2.34+; for older targets use an Eclipse Temurin 17 JDK.
#   --out DIR     where to build (default dist/gpu-check; also writes DIR.tar.gz)
#   --self-test   afterwards, dry-run the bundle here against the simulated NVML (native/build) with
#                 smi_standin.py in place of nvidia-smi
# See docs/real-gpu-check.md.
set -euo pipefail

readonly REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly HERE=$REPO/scripts/real-gpu-check
readonly LIMIT_BYTES=$((64 * 1024 * 1024))
# jdeps on the shaded jar names java.base, java.naming, java.sql and java.desktop. java.desktop
# (~10 MiB) only backs optional java.beans lookups in the libraries, and the probe runs without it;
# java.logging, java.xml (logback's configuration), java.management (JMX, JVM metrics) and
# jdk.unsupported (sun.misc.Unsafe for JNA and Netty) are needed at run time but not seen by jdeps.
readonly MODULES=java.base,java.logging,java.xml,java.naming,java.sql,java.management,jdk.unsupported

jar=$REPO/agent/target/gpu-agent.jar
jdk=""
out=$REPO/dist/gpu-check
self_test=0
while [ $# -gt 0 ]; do
    case "$1" in
        --jar) jar=$2; shift 2 ;;
        --jdk) jdk=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --self-test) self_test=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build-bundle.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

die() { echo "build-bundle.sh: $*" >&2; exit 1; }

[ -f "$jar" ] || die "no jar at $jar: run 'mvn -DskipTests package' in $REPO first"
if [ -z "$jdk" ]; then
    if [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/jlink ]; then jdk=/usr/lib/jvm/java-17-openjdk-amd64
    elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ]; then jdk=$JAVA_HOME
    else die "no JDK 17 with jlink: apt-get install openjdk-17-jdk-headless, or pass --jdk DIR"; fi
fi
[ -x "$jdk/bin/jlink" ] || die "$jdk has no bin/jlink"
jdk_version=$("$jdk/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
[ "$jdk_version" = 17 ] || die "$jdk is Java $jdk_version; the runtime must be Java 17 (the agent's target)"

echo "build-bundle.sh: jdeps says the jar uses: $("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps \
    --multi-release 17 "$jar" 2>/dev/null || echo '(jdeps failed)')"
echo "build-bundle.sh: linking $MODULES"

rm -rf "$out" "$out.tar.gz"
mkdir -p "$(dirname "$out")"
"$jdk/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --compress=2 --output "$out/runtime"
# The check runs `probe` and `run` without sessions or escrow, which need none of the escrow's
# libraries (web3j, Bouncy Castle, Kotlin, OkHttp, RxJava: 14 MiB) nor Docker's (docker-java,
# Guava, Apache HttpClient: 6 MiB); the bundle's jar leaves them out to stay under the 64 MiB copy
# limit.
python3 - "$jar" "$out/gpu-agent.jar" <<'PY'
import sys, zipfile
drop = ("org/web3j/", "org/bouncycastle/", "kotlin/", "okhttp3/", "okio/", "rx/", "io/reactivex/",
        "com/squareup/", "org/reactivestreams/", "jnr/", "com/github/jnr/", "org/apache/", "com/google/",
        "com/github/dockerjava/", "META-INF/versions/9/org/bouncycastle/")
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for e in src.infolist():
        name = e.filename
        signed = name.startswith("META-INF/") and name.endswith((".SF", ".RSA", ".DSA", ".EC"))
        if not name.startswith(drop) and not signed:
            dst.writestr(e, src.read(name))
PY
cp "$HERE/run.sh" "$HERE/compare.py" "$HERE/smi_standin.py" "$out/"
chmod 0755 "$out/run.sh" "$out/compare.py" "$out/smi_standin.py"
[ -f "$REPO/docs/real-gpu-check.md" ] && cp "$REPO/docs/real-gpu-check.md" "$out/README.md"
printf 'built %s from %s (%s), runtime %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)" \
    "$(basename "$jar")" "$("$out/runtime/bin/java" -version 2>&1 | head -n 1)" >"$out/BUILD-INFO"

# The bundle must start on this machine before it travels.
"$out/runtime/bin/java" -jar "$out/gpu-agent.jar" --version >/dev/null \
    || die "the bundled runtime cannot run the jar (a module missing from MODULES?)"

bytes=$(du -sb "$out" | cut -f1)
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
tar_bytes=$(stat -c %s "$out.tar.gz")
printf 'build-bundle.sh: %s is %.1f MiB (runtime %.1f MiB, jar %.1f MiB); %s is %.1f MiB\n' \
    "$out" "$(echo "$bytes / 1048576" | bc -l)" \
    "$(echo "$(du -sb "$out/runtime" | cut -f1) / 1048576" | bc -l)" \
    "$(echo "$(stat -c %s "$out/gpu-agent.jar") / 1048576" | bc -l)" \
    "$out.tar.gz" "$(echo "$tar_bytes / 1048576" | bc -l)"
[ "$bytes" -lt "$LIMIT_BYTES" ] || die "the bundle is $bytes bytes, over the 64 MiB limit"

if [ "$self_test" = 1 ]; then
    sim_lib=$REPO/native/build/libnvidia-ml.so.1
    [ -f "$sim_lib" ] || die "--self-test needs the simulated library: make -C $REPO/native"
    echo "build-bundle.sh: self-test against the simulated NVML (config/sim/mixed-lab.conf)"
    rm -rf "$out-selftest"
    GPU_AGENT_SIM_CONFIG=$REPO/config/sim/mixed-lab.conf GPU_CHECK_RESULTS=$out-selftest \
        "$out/run.sh" --nvml-library "$sim_lib" \
        --nvidia-smi "python3 $out/smi_standin.py --nvml-library $sim_lib" --allow-simulated
fi
echo "build-bundle.sh: copy it over with: scp $out.tar.gz gpu-host:  (then see $out/README.md)"
