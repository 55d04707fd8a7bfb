/**
 * The audit, split and report steps: thin calls into datasets/ and reports/.
 * (Filled in as those modules land; until then the steps say so plainly.)
 */
import { PipelineError } from '../errors';
import type { StepContext } from '../runner';
import type { StudioServices } from '../service';

export async function auditStep(_studio: StudioServices, _ctx: StepContext): Promise<void> {
  throw new PipelineError('the audit step is not available yet (src-main/datasets has not landed)');
}

export async function splitStep(_studio: StudioServices, _ctx: StepContext): Promise<void> {
  throw new PipelineError('the split step is not available yet (src-main/datasets has not landed)');
}

export async function reportStep(_studio: StudioServices, _ctx: StepContext): Promise<void> {
  throw new PipelineError('the report step is not available yet (src-main/reports has not landed)');
}
