/** The model hub client and cache of `@da3js/node` (see ./resolve.ts and ./cache.ts for the layout). */
export { HubError, isHubError, type HubErrorReason, type HubErrorDetails } from './errors.js';
export { DirectoryModelCache, type FileByteSource, fileByteSource, fileSink, pipeToSink, writeFileAtomic } from './fs.js';
export { defaultHubCacheDir, findCachedFile, isRepoId, repoCache, repoFolderName, type HubRepoCache } from './cache.js';
export { hubFileUrl } from './http.js';
export {
  type HubFileOptions,
  type HubFileResult,
  type HubOptions,
  type HubProgressEvent,
  type ModelFileSet,
  type ResolveModelOptions,
  fetchHubFile,
  resolveHubFile,
  resolveModelFiles,
} from './resolve.js';
