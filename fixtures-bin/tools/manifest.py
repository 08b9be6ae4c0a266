#!/usr/bin/env python3
"""MANIFEST.json: each fixture's build command, sha256 and the facts binutils' readelf reports for it
(the reference the reader is tested against). readelf -D reads through the dynamic segment, which is
what a file without section headers needs."""
import hashlib, json, os, re, subprocess, sys



def readelf_facts(path):
    def run(*args):
        return subprocess.run(['readelf', *args, '-W', path], capture_output=True, text=True).stdout
    has_sections = 'There are no sections' not in run('-S')
    dyn_args = ['-d'] if has_sections else ['-D', '-d']
    facts = {'needed': [], 'soname': None, 'rpath': [], 'runpath': [], 'interpreter': None, 'imports': []}
    for line in run(*dyn_args).splitlines():
        m = re.search(r'\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+.*?\[(.*)\]\s*$', line)
        if not m:
            continue
        kind, value = m.group(1), m.group(2)
        if kind == 'NEEDED': facts['needed'].append(value)
        elif kind == 'SONAME': facts['soname'] = value
        else: facts[kind.lower()] = value.split(':')
    m = re.search(r'Requesting program interpreter: (.*)\]', run('-l'))
    facts['interpreter'] = m.group(1) if m else None
    syms = run(*([] if has_sections else ['-D']), '-s' if not has_sections else '--dyn-syms')
    imports = set()
    for line in syms.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(':') and f[0] != '0:' and f[6] == 'UND':
            imports.add(f[7])
    facts['imports'] = sorted(imports)
    return facts

def main(commands_tsv, bindir, malformed):
  entries = []
  for line in open(commands_tsv):
      name, command = line.rstrip('\n').split('\t', 1)
      path = next(os.path.join(root, name) for root, _, files in os.walk(bindir) if name in files)
      data = open(path, 'rb').read()
      entries.append({'name': name, 'path': os.path.relpath(path, os.path.dirname(bindir) or '.'),
                      'command': command, 'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                      'readelf': readelf_facts(path)})
  bad = sorted(os.listdir(malformed))
  json.dump({'generatedBy': 'fixtures-bin/build.sh', 'fixtures': entries,
             'malformed': [{'name': n, 'sha256': hashlib.sha256(open(os.path.join(malformed, n), 'rb').read()).hexdigest()} for n in bad]},
            sys.stdout, indent=2)
  print()

if __name__ == '__main__':
    main(*sys.argv[1:4])
