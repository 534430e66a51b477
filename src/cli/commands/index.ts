import type { Command } from '../command.js';

/**
 * Every CLI command, in the order `--help` lists them. Each lives in its own file in this folder
 * and is added here with one line.
 */
export const COMMANDS: readonly Command[] = [];
