/**
 * Capture profiles: YAML files (profiles/*.yaml, shipped with wnvcap, or a user file by path)
 * validated against a small schema: unknown keys and wrong types are errors naming the file.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { listAssetFolder, readTextAsset } from '../util/assets.js';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../util/errors.js';
import type { ProviderSpec, RawCaptureOptions } from './options.js';

export interface Profile {
  name: string;
  description: string;
  file: string;
  values: RawCaptureOptions;
}

export function profilesDir(): string {
  return fileURLToPath(new URL('../../profiles/', import.meta.url));
}

const FIELDS: Record<string, 'string' | 'number|string' | 'boolean' | 'list' | 'providers'> = {
  duration: 'number|string', maxSize: 'number|string', truncate: 'number|string', ip: 'list', protocol: 'list', mac: 'list', ethertype: 'list',
  captureType: 'string', backend: 'string', multiLayer: 'boolean', vmSwitchProvider: 'boolean', vfpProvider: 'boolean', pktmonType: 'string', providers: 'providers',
};

/** Validates a parsed profile document. */
export function validateProfile(doc: unknown, file: string): Profile {
  const bad = (msg: string): never => {
    throw new UsageError(`profile ${file}: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('must be a mapping with name, description and capture');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['name', 'description', 'capture'].includes(k)) bad(`unknown key "${k}"`);
  if (typeof d['name'] !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(d['name'])) bad('"name" must be a short identifier');
  if (typeof d['description'] !== 'string') bad('"description" must be a string');
  const c = d['capture'];
  if (typeof c !== 'object' || c === null || Array.isArray(c)) bad('"capture" must be a mapping');
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
    const t = FIELDS[k];
    if (!t) bad(`unknown capture field "${k}" (known: ${Object.keys(FIELDS).join(', ')})`);
    if (t === 'string' && typeof v !== 'string') bad(`capture.${k} must be a string`);
    if (t === 'boolean' && typeof v !== 'boolean') bad(`capture.${k} must be true or false`);
    if (t === 'number|string' && typeof v !== 'number' && typeof v !== 'string') bad(`capture.${k} must be a number or a string`);
    if (t === 'list' && !(Array.isArray(v) ? v : [v]).every((x) => typeof x === 'string' || typeof x === 'number')) bad(`capture.${k} must be a list of values`);
    if (t === 'providers') {
      if (!Array.isArray(v)) bad('capture.providers must be a list');
      for (const p of v as unknown[]) {
        if (typeof p !== 'object' || p === null) bad('each provider must be a mapping with name, level, keywords');
        const pp = p as Record<string, unknown>;
        for (const pk of Object.keys(pp)) if (!['name', 'level', 'keywords'].includes(pk)) bad(`provider: unknown key "${pk}"`);
        if (typeof pp['name'] !== 'string') bad('provider name must be a string');
        if (pp['level'] !== undefined && typeof pp['level'] !== 'number') bad('provider level must be a number');
        if (pp['keywords'] !== undefined && typeof pp['keywords'] !== 'string') bad('provider keywords must be a hex string');
      }
      values[k] = (v as ProviderSpec[]).map((p) => ({ ...p }));
      continue;
    }
    values[k] = v;
  }
  return { name: d['name'] as string, description: d['description'] as string, file, values: values as RawCaptureOptions };
}

export async function readProfileFile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`profile file ${path} cannot be read`);
  }
  return parseProfileText(text, path);
}

export async function listProfiles(): Promise<Profile[]> {
  const names = listAssetFolder('profiles').filter((n) => n.endsWith('.yaml'));
  return names.map((n) => {
    const text = readTextAsset(`profiles/${n}`);
    if (text === undefined) throw new UsageError(`built-in profile ${n} is missing`);
    return parseProfileText(text, `profiles/${n}`);
  });
}

function parseProfileText(text: string, path: string): Profile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`profile ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateProfile(doc, path);
}

/** A built-in profile by name, or a user profile by path (contains a slash or ends in .yaml). */
export async function loadProfile(nameOrPath: string): Promise<Profile> {
  if (/[\\/]/.test(nameOrPath) || /\.ya?ml$/i.test(nameOrPath)) return readProfileFile(nameOrPath);
  const all = await listProfiles();
  const p = all.find((x) => x.name === nameOrPath);
  if (!p) throw new UsageError(`no profile named "${nameOrPath}"`, { hint: `built-in profiles: ${all.map((x) => x.name).join(', ')}; or give a path to a .yaml file` });
  return p;
}

export const DEFAULT_PROFILE = 'container';
