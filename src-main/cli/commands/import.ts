/** `character import-characterllm <file> --character Beethoven`. */
import { PipelineError } from '../../pipeline/errors';
import type { CommandFn } from '../context';

export const importCommand: CommandFn = async () => {
  throw new PipelineError(
    'import-characterllm: the Character-LLM importer (src-main/datasets) is not available yet',
  );
};
