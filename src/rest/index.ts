export { createRestTranscoder } from './transcoder.js';
export { recordImplementations } from './implementations.js';
export type { UnaryImplementations } from './implementations.js';
export type { RestTranscoder, RestTranscoderOptions, RestRoute } from './transcoder.js';
export { writeRestError, restErrorBody, httpStatusForCode } from './errors.js';
export type { RestErrorBody } from './errors.js';
