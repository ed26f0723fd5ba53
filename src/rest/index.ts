export { createRestTranscoder } from './transcoder.js';
export type { RestTranscoder, RestTranscoderOptions, RestRoute } from './transcoder.js';
export { writeRestError, restErrorBody, httpStatusForCode } from './errors.js';
export type { RestErrorBody } from './errors.js';
