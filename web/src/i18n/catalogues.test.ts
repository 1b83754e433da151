// The four catalogues are complete: same keys (plural forms per language), same placeholders, no
// English left in a translation; every key the code names statically exists; every coded value
// and every command field has a label.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from './en.json';
import sq from './sq.json';
import sr from './sr.json';
import mk from './mk.json';
import { ENUMS } from '../vocabulary';
import { COMMANDS, FAMILY_FIELDS, PERSONAL_FIELDS, REGISTER, VOID } from '../commands';

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const PLURAL = /_(zero|one|two|few|many|other)$/;
const base = (key: string) => key.replace(PLURAL, '');
const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
const english = flatten(en as Tree);
const englishBase = new Set([...english.keys()].map(base));
// The plural forms each language's grammar needs (CLDR), as i18next names them.
const FORMS: Record<string, string[]> = {
  en: ['one', 'other'],
  sq: ['one', 'other'],
  sr: ['one', 'few', 'other'],
  mk: ['one', 'other'],
};

describe.each([
  ['sq', sq],
  ['sr', sr],
  ['mk', mk],
])('the %s catalogue', (language, catalogue) => {
  const strings = flatten(catalogue as Tree);
  it('has every key of the English one, and no other', () => {
    const keys = new Set([...strings.keys()].map(base));
    expect([...englishBase].filter((k) => !keys.has(k))).toEqual([]);
    expect([...keys].filter((k) => !englishBase.has(k))).toEqual([]);
  });
  it('has every plural form its grammar needs', () => {
    const plurals = new Set([...english.keys()].filter((k) => PLURAL.test(k)).map(base));
    for (const key of plurals)
      for (const form of FORMS[language]) expect(strings.has(`${key}_${form}`), `${key}_${form}`).toBe(true);
  });
  it('translates every string, keeping its placeholders', () => {
    for (const [key, value] of strings) {
      const source = english.get(key) ?? english.get(`${base(key)}_other`)!;
      expect(value.trim(), key).not.toBe('');
      expect(value, `${key} is still in English`).not.toBe(source);
      expect(placeholders(value), key).toEqual(placeholders(source));
    }
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name: string) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gql' ? [] : sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the English catalogue', () => {
  it('has every key the code names', () => {
    const used = new Set<string>();
    for (const file of sources(join(import.meta.dirname, '..'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((k) => !englishBase.has(k))).toEqual([]);
  });

  it('labels every coded value the client offers', () => {
    for (const [name, values] of Object.entries(ENUMS))
      for (const value of values) expect(english.has(`enum.${name}.${value}`), `enum.${name}.${value}`).toBe(true);
  });

  it('names every command and every field of its form', () => {
    for (const spec of [...COMMANDS, REGISTER, VOID]) {
      expect(english.has(`command.${spec.id}`), spec.id).toBe(true);
      for (const f of [...spec.fields, ...FAMILY_FIELDS, ...PERSONAL_FIELDS])
        expect(english.has(`field.${f.name}`), `field.${f.name}`).toBe(true);
    }
  });
});

describe('the coded values', () => {
  const schema = readFileSync(join(import.meta.dirname, '../../../schema.graphql'), 'utf8');
  it.each(Object.entries(ENUMS))('%s lists every value of the schema enum', (name, values) => {
    const body = schema.match(new RegExp(`enum ${name} \\{([^}]*)\\}`))?.[1] ?? '';
    const declared = body
      .replace(/"""[\s\S]*?"""/g, '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[A-Z_]+$/.test(l));
    expect(declared.length, name).toBeGreaterThan(0);
    expect([...values].sort()).toEqual(declared.sort());
  });
});
