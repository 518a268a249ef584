import { join } from 'node:path';
import { stringify } from 'yaml';
import { K8S_DIR, renderKustomization } from './kustomize';

/** `npm run k8s:render -- production` prints the overlay's objects as `kubectl kustomize` would (`base` for the base). */
const target = process.argv[2] ?? 'production';
const directory = target === 'base' ? join(K8S_DIR, 'base') : join(K8S_DIR, 'overlays', target);
process.stdout.write(renderKustomization(directory).map((object) => stringify(object)).join('---\n'));
