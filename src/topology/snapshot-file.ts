/** A snapshot.json file as the host's topology. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import { parseSnapshot } from './snapshot.js';
import { buildTopology, type Topology } from './topology.js';

export async function loadTopology(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return buildTopology(parseSnapshot(text, path));
}
