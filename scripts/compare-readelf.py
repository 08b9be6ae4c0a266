#!/usr/bin/env python3
"""Compares `muslcheck inspect --format json` with binutils' readelf on every ELF file under the given
paths: NEEDED, SONAME, RPATH, RUNPATH, interpreter and the set of undefined symbol@version.
Usage: scripts/compare-readelf.py MUSLCHECK PATH...   Prints disagreements and a summary; exit 1 on any."""
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'fixtures-bin', 'tools'))
from manifest import readelf_facts  # the same reading the fixture manifest uses

muslcheck, paths = sys.argv[1], sys.argv[2:]
report = json.loads(subprocess.run([muslcheck, 'inspect', '--format', 'json', *paths], capture_output=True, text=True).stdout)
checked = bad = 0
for f in report['files']:
    if f['status'] != 'ok':
        continue
    checked += 1
    ref = readelf_facts(f['path'])
    ours = {'needed': f['needed'], 'soname': f['soname'], 'rpath': f['rpath'], 'runpath': f['runpath'],
            'interpreter': f['interpreter'],
            'imports': sorted({i['name'] + ('@' + i['version'] if i['version'] else '') for i in f['imports']})}
    diffs = [k for k in ours if ours[k] != ref[k]]
    if diffs:
        bad += 1
        for k in diffs:
            extra = ours[k] if not isinstance(ours[k], list) else sorted(set(ours[k]) - set(ref[k]))[:5]
            missing = ref[k] if not isinstance(ref[k], list) else sorted(set(ref[k]) - set(ours[k]))[:5]
            print(f"{f['path']}: {k}: muslcheck has {extra!r}, readelf has {missing!r}")
print(f"{checked} ELF files compared, {checked - bad} agree, {bad} disagree")
sys.exit(1 if bad else 0)
