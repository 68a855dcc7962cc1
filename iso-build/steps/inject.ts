/**
 * node.exe + blob → lifeline.exe: strip the signature (pe-image.ts), let postject add the blob as
 * the RT_RCDATA resource NODE_SEA_BLOB and flip the SEA fuse, fix the checksum, then move the file
 * into place in one rename, so an interrupted build never leaves a half-written exe at `out`.
 */
import { createRequire } from 'node:module';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { stripSignature, withChecksum } from './pe-image.ts';

/** The fuse string node.exe carries; postject turns its trailing `:0` into `:1`. */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

type PostjectInject = (file: string, resource: string, data: Buffer, options: { sentinelFuse: string }) => Promise<void>;

export interface InjectInput {
  readonly nodeExe: string;
  readonly blob: Uint8Array;
  /** postject's dist/api.js. */
  readonly postjectApi: string;
  readonly out: string;
}

export async function injectBlob(input: InjectInput): Promise<Uint8Array> {
  const { inject } = createRequire(import.meta.url)(input.postjectApi) as { inject: PostjectInject };
  const temp = `${input.out}.partial`;
  try {
    await writeFile(temp, stripSignature(new Uint8Array(await readFile(input.nodeExe))));
    await inject(temp, 'NODE_SEA_BLOB', Buffer.from(input.blob), { sentinelFuse: SEA_FUSE });
    const exe = withChecksum(new Uint8Array(await readFile(temp)));
    await writeFile(temp, exe);
    await rename(temp, input.out);
    return exe;
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
