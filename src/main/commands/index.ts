/** Every `lifeline` subcommand, in the order `lifeline --help` lists them. */
import type { Command } from '../cli-kit.ts';
import { diskBlocks, diskShow } from './disk.ts';

export const commands: readonly Command[] = [diskShow, diskBlocks];
