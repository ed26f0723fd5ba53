import type { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { privateMode } from '../private-files.js';

type PostgresMod = Parameters<NodeFS['init']>[1];

/**
 * PGlite's files on disk, kept private. Emscripten's NODEFS creates each file and then chmods it
 * to the mode the emulated PostgreSQL asked for (0666), past the process umask, so every table
 * came out world-writable. This wraps the two NODEFS operations that set a mode on disk (creating
 * a node, changing attributes) to drop group and other bits; the owner bits the emulated process
 * relies on are untouched.
 */
export class PrivateNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Partial<PostgresMod>): Promise<{ emscriptenOpts: Partial<PostgresMod> }> {
    const { emscriptenOpts } = await super.init(pg, opts);
    // First, so the wrapping is in place before NodeFS mounts the directory and initdb writes to it.
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [keepNodefsPrivate, ...(emscriptenOpts.preRun ?? [])] } };
  }
}

interface Attr {
  mode?: number;
}
interface NodefsInternals {
  setattr: (arg: unknown, node: unknown, attr: Attr, ...rest: unknown[]) => void;
  node_ops: { mknod: (parent: unknown, name: string, mode: number, dev: number) => unknown };
}

function keepNodefsPrivate(mod: PostgresMod): void {
  const nodefs = (mod.FS as unknown as { filesystems?: { NODEFS?: Partial<NodefsInternals> } }).filesystems?.NODEFS;
  if (typeof nodefs?.setattr !== 'function' || typeof nodefs.node_ops?.mknod !== 'function') {
    // A PGlite upgrade moved these: refuse to start rather than write world-readable files.
    throw new Error("cannot keep the embedded database private: PGlite's NODEFS has no setattr/node_ops.mknod");
  }
  const internals = nodefs as NodefsInternals;
  const setattr = internals.setattr;
  internals.setattr = (arg, node, attr, ...rest) =>
    setattr.call(internals, arg, node, attr.mode === undefined ? attr : { ...attr, mode: privateMode(attr.mode) }, ...rest);
  const mknod = internals.node_ops.mknod;
  internals.node_ops.mknod = (parent, name, mode, dev) => mknod.call(internals.node_ops, parent, name, privateMode(mode), dev);
}
