import type { Store } from '../../store/store.ts';
import type { ModelRegistry, ModelVersion, RegisteredModel, RegisterRequest } from './model.ts';

/** Store collection of the local registry: one document per registered model. */
export const LOCAL_MODELS = 'tracking-models';

interface ModelDoc extends RegisteredModel {
  versions: ModelVersion[];
}

/** The registry in the store, next to the local tracker: versions reference the model's blobs (no copies). */
export class LocalModelRegistry implements ModelRegistry {
  readonly kind = 'local' as const;

  constructor(private readonly store: Store) {}

  async registerVersion(req: RegisterRequest): Promise<ModelVersion> {
    const now = Date.now();
    const doc = (await this.store.getDoc<ModelDoc>(LOCAL_MODELS, req.name)) ?? { name: req.name, created: now, updated: now, aliases: {}, versions: [] };
    const version: ModelVersion = {
      name: req.name,
      version: String(doc.versions.length + 1),
      source: `store:${req.trackedRunId}/model`,
      runId: req.trackedRunId,
      created: now,
      tags: req.tags,
      aliases: [],
      ...(req.description ? { description: req.description } : {}),
      files: Object.fromEntries(req.files.map((f) => [f.path, f.blob])),
    };
    doc.versions.push(version);
    doc.updated = now;
    doc.latestVersion = version.version;
    await this.store.putDoc(LOCAL_MODELS, req.name, doc);
    return version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    const doc = await this.doc(name);
    if (!doc.versions.some((v) => v.version === version)) throw new Error(`model ${name} has no version ${version}`);
    doc.aliases[alias] = version;
    doc.updated = Date.now();
    await this.store.putDoc(LOCAL_MODELS, name, doc);
  }

  async getByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    const doc = await this.store.getDoc<ModelDoc>(LOCAL_MODELS, name);
    const version = doc?.aliases[alias];
    return version ? withAliases(doc, doc.versions.find((v) => v.version === version)!) : undefined;
  }

  async listModels(): Promise<RegisteredModel[]> {
    const out: RegisteredModel[] = [];
    for await (const id of this.store.listDocIds(LOCAL_MODELS)) {
      const doc = await this.store.getDoc<ModelDoc>(LOCAL_MODELS, id);
      if (doc) out.push(summary(doc));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getModel(name: string): Promise<RegisteredModel | undefined> {
    const doc = await this.store.getDoc<ModelDoc>(LOCAL_MODELS, name);
    return doc && summary(doc);
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    const doc = await this.store.getDoc<ModelDoc>(LOCAL_MODELS, name);
    return doc ? doc.versions.map((v) => withAliases(doc, v)) : [];
  }

  private async doc(name: string): Promise<ModelDoc> {
    const doc = await this.store.getDoc<ModelDoc>(LOCAL_MODELS, name);
    if (!doc) throw new Error(`no registered model ${name} in ${this.store.location}`);
    return doc;
  }
}

function summary(doc: ModelDoc): RegisteredModel {
  const { versions: _versions, ...rest } = doc;
  return rest;
}

function withAliases(doc: ModelDoc, v: ModelVersion): ModelVersion {
  return { ...v, aliases: Object.entries(doc.aliases).filter(([, version]) => version === v.version).map(([alias]) => alias) };
}
