import { Initial1763900000000 } from './0001-initial.js';

/** Every migration, oldest first. Append new ones; never edit or reorder shipped ones. */
export const migrations = [Initial1763900000000];
