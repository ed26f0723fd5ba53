export { catalog, type Reason } from './catalog.js';
export { AppError, fail } from './app-error.js';
export { reasonOfCode, toConnectError } from './to-connect-error.js';
