#!/usr/bin/env python3
"""Compares muslcheck's verdicts and missing-symbol sets with musl's own dynamic linker, the ground truth.

For every x86_64 dynamic ELF file under the given paths that is not part of glibc itself, it runs
`/lib/ld-musl-x86_64.so.1 --list FILE` (list mode maps and relocates without running any code of FILE)
with libc6-compat emulated by a directory of links (libcrypt.so.1 -> musl) and the machine's other
libraries (not glibc's) on the library path, and compares with `muslcheck check --target alpine:3.17`
(musl 1.2.3, as Debian 12's musl package). Only what the loader says about FILE itself counts.
Debian's musl drops crypt and adds fts_*: those names are left out on both sides. A library the loader
cannot find that muslcheck names as missing (with the package that brings it, or as a rebuild) is
agreement on the verdict: the loader runs without the packages muslcheck would add.

Usage: scripts/compare-musl-loader.py MUSLCHECK PATH...   (needs Debian's musl package)"""
import glob, json, os, subprocess, sys, tempfile

LOADER = '/lib/ld-musl-x86_64.so.1'
muslcheck, paths = sys.argv[1], sys.argv[2:]

def debian_difference(name):
    return name.startswith('fts') or name in ('crypt', 'crypt_r', 'encrypt', 'setkey')

glibc_files = set()
for pkg in ('libc6', 'libc-bin', 'libc6-dev', 'libc-dev-bin'):
    out = subprocess.run(['dpkg', '-L', pkg], capture_output=True, text=True).stdout
    for f in out.splitlines():
        glibc_files.add(os.path.realpath(f))

work = tempfile.mkdtemp(prefix='muslcheck-loader-')
compat, others = os.path.join(work, 'compat'), os.path.join(work, 'libs')
os.makedirs(compat); os.makedirs(others)
os.symlink(LOADER, os.path.join(compat, 'libcrypt.so.1'))
for d in ('/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu'):
    for lib in glob.glob(d + '/*.so*'):
        name = os.path.basename(lib)
        if os.path.realpath(lib) in glibc_files or os.path.exists(os.path.join(others, name)):
            continue
        os.symlink(lib, os.path.join(others, name))
env = dict(os.environ, LD_LIBRARY_PATH=compat + ':' + others)

# Names a libc answers for: glibc's, musl's and gcompat's. A plugin's references to its host program
# (Perl_*, PL_*, tc's addattr_l...) fail under any libc when the plugin is listed alone: left out.
data = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Sources', 'Knowledge', 'data')
libc_names = set()
for f in glob.glob(data + '/musl-*.txt') + glob.glob(data + '/gcompat-*.txt') + glob.glob(data + '/glibc-*.tsv'):
    for line in open(f):
        if not line.startswith('#'):
            libc_names.add(line.split('\t')[0].strip())

report = json.loads(subprocess.run([muslcheck, 'check', '--format', 'json', '--target', 'alpine:3.17', '--fail-on', 'never',
                                    '--root', '/', '--library-path', others, *paths],
                                   capture_output=True, text=True).stdout)
compared = agree = verdict_agree = 0
disagreements = []
for r in report['results']:
    if r['status'] != 'assessed' or r['arch'] != 'x86_64' or r['linkage'] != 'dynamic' or r.get('interpreter') is None and not r.get('needed'):
        continue
    path = r['path']
    if os.path.realpath(path) in glibc_files:
        continue
    try:
        run = subprocess.run([LOADER, '--list', path], capture_output=True, text=True, env=env, timeout=20)
    except subprocess.TimeoutExpired:
        disagreements.append(f'{path}: loader timed out'); continue
    prefix = f'Error relocating {path}: '
    claimed = {s['name'] for s in r['missingSymbols']}
    missing, loads = set(), True
    listed = {m['soname'] for m in r.get('missingLibraries', [])}
    listed_missing = False
    for line in (run.stdout + run.stderr).splitlines():
        if line.startswith(prefix):
            rest = line[len(prefix):]
            if rest.endswith(': symbol not found'):
                name = rest[:-len(': symbol not found')]
                if not debian_difference(name) and (name in libc_names or name in claimed):
                    missing.add(name); loads = False
            elif 'unsupported relocation' in rest:
                loads = False
        elif line.startswith('Error loading shared library') and line.endswith(f'(needed by {path})'):
            library = line[len('Error loading shared library '):].split(':')[0]
            if library in listed:
                listed_missing = True
            else:
                loads = False
    ours = {name for name in claimed if not debian_difference(name)}
    # The loader is judged on what it says about FILE itself, so compare the file's own verdict
    # (before the libraries it loads are folded in).
    ours_loads = r.get('ownVerdict', r['verdict']) in ('runs', 'needs-libc6-compat')
    compared += 1
    same_symbols = ours == missing
    # A library muslcheck names as missing (with the package that brings it, or as a rebuild) that the loader
    # cannot find either: they agree, whichever verdict that remedy gives.
    same_verdict = (listed_missing and loads) or ours_loads == loads
    verdict_agree += same_verdict
    if same_symbols and same_verdict:
        agree += 1
    else:
        disagreements.append(f"{path}: verdict {r.get('ownVerdict', r['verdict'])} vs loader {'loads' if loads else 'fails'}; "
                             f"only muslcheck: {sorted(ours - missing)[:6]}; only loader: {sorted(missing - ours)[:6]}")
for d in disagreements:
    print(d)
print(f'{compared} files compared: {agree} agree on verdict and missing symbols ({100.0 * agree / max(compared, 1):.2f}%), '
      f'{verdict_agree} on the verdict alone ({100.0 * verdict_agree / max(compared, 1):.2f}%)')
