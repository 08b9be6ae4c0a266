// The version --version prints and reports carry. scripts/release.sh writes ReleaseVersion.swift (not
// committed) from `git describe` and builds with -Xswiftc -DMUSLCHECK_RELEASE_VERSION; every other build
// uses the number below.
#if !MUSLCHECK_RELEASE_VERSION
    let toolVersion = "0.1.0"
#endif
