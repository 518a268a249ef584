import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * The part of kustomize that deploy/k8s/ uses, in TypeScript, so the manifests render and
 * are checked on any machine after `npm ci` (docs/operations.md "Kubernetes"): `resources` (files and
 * directories with a kustomization.yaml), `namespace`, `labels` (metadata only), `images`
 * and `patches` given by path as strategic-merge patches (lists of named items, such as
 * containers and env, merge by `name`). Anything else in a kustomization is refused rather
 * than ignored, so the renderer never quietly differs from `kubectl kustomize`.
 */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
};

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string }[];
}

const UNDERSTOOD = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
/** Kinds that live outside any namespace, among those deploy/k8s/ uses. */
const CLUSTER_SCOPED = new Set(['Namespace']);

/** Renders the kustomization in `directory` to its objects, in resource order. */
export function renderKustomization(directory: string): KubeObject[] {
  const kustomization = readYaml(join(directory, 'kustomization.yaml'))[0] as Kustomization;
  const unknown = Object.keys(kustomization).filter((field) => !UNDERSTOOD.has(field));
  if (unknown.length > 0) throw new Error(`${directory}/kustomization.yaml: the renderer does not handle ${unknown.join(', ')}`);
  if (kustomization.labels?.some((label) => label.includeSelectors)) throw new Error(`${directory}: labels with includeSelectors are not handled`);
  let objects = (kustomization.resources ?? []).flatMap((resource) => renderResource(join(directory, resource)));
  for (const patch of kustomization.patches ?? []) {
    for (const change of readYaml(join(directory, patch.path)) as KubeObject[]) objects = objects.map((object) => (sameObject(object, change) ? (mergePatch(object, change) as KubeObject) : object));
  }
  return objects.map((object) => {
    const labels = Object.assign({}, object.metadata.labels, ...(kustomization.labels ?? []).map((label) => label.pairs)) as Record<string, string>;
    const namespace = kustomization.namespace && !CLUSTER_SCOPED.has(object.kind) ? { namespace: kustomization.namespace } : {};
    const withMetadata = { ...object, metadata: { ...object.metadata, ...namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) } };
    return retagImages(withMetadata, kustomization.images ?? []);
  });
}

function renderResource(path: string): KubeObject[] {
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return readYaml(path) as KubeObject[];
}

function readYaml(path: string): unknown[] {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  return parseAllDocuments(readFileSync(path, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
    return document.toJS() as unknown;
  });
}

const sameObject = (object: KubeObject, patch: KubeObject) =>
  object.kind === patch.kind && object.apiVersion === patch.apiVersion && object.metadata.name === patch.metadata.name;

/** A strategic-merge patch: maps merge, lists of named maps merge by name, other values (and other lists) are replaced. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(patch) && [...target, ...patch].every(isNamed)) {
    const merged = target.map((item: Named) => {
      const change = (patch as Named[]).find((candidate) => candidate.name === item.name);
      return change ? mergePatch(item, change) : item;
    });
    // New items come first, as kustomize (kyaml) places them.
    return [...(patch as Named[]).filter((change) => !target.some((item: Named) => item.name === change.name)), ...merged];
  }
  if (!isMap(target) || !isMap(patch)) return patch;
  const merged: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) merged[key] = key in target ? mergePatch(target[key], value) : value;
  return merged;
}

type Named = { name: string };
const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNamed = (value: unknown): value is Named => isMap(value) && typeof value.name === 'string';

/** `images`: every container image named `name` (with or without a tag) gets the new name and tag. */
function retagImages(object: KubeObject, images: NonNullable<Kustomization['images']>): KubeObject {
  if (images.length === 0) return object;
  const visit = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => visit(item));
    if (!isMap(value)) return value;
    const result: Record<string, unknown> = {};
    for (const [field, inner] of Object.entries(value)) result[field] = field === 'image' && typeof inner === 'string' && key !== 'metadata' ? retag(inner, images) : visit(inner, field);
    return result;
  };
  return visit(object) as KubeObject;
}

function retag(image: string, images: NonNullable<Kustomization['images']>): string {
  const [name = image, tag] = image.split(/:(?=[^/]*$)/);
  const rule = images.find((candidate) => candidate.name === name);
  if (!rule) return image;
  const newTag = rule.newTag ?? tag;
  return `${rule.newName ?? name}${newTag ? `:${newTag}` : ''}`;
}

/** The folder deploy/k8s/ lives in, for the CLI and the tests. */
export const K8S_DIR = join(dirname(__dirname), 'deploy', 'k8s');
