/**
 * The GPUs `character checkpoint deploy --modal` and the Checkpoints page offer for a Modal
 * deployment (engine/character_engine/export/modal_app.py maps them to Modal's names), with the
 * price per hour Modal listed for each. Prices change: the note says where they came from.
 */
export const MODAL_GPU_IDS = ['T4', 'L4', 'A10G', 'A100', 'H100'] as const;
export type ModalGpu = (typeof MODAL_GPU_IDS)[number];

export interface ModalGpuInfo {
  id: ModalGpu;
  /** GPU memory in GB. */
  memoryGb: number;
  /** USD per hour while a container runs (Modal bills per second; idle containers scale to zero). */
  usdPerHour: number;
}

export const MODAL_GPUS: readonly ModalGpuInfo[] = [
  { id: 'T4', memoryGb: 16, usdPerHour: 0.59 },
  { id: 'L4', memoryGb: 24, usdPerHour: 0.8 },
  { id: 'A10G', memoryGb: 24, usdPerHour: 1.1 },
  { id: 'A100', memoryGb: 80, usdPerHour: 2.5 },
  { id: 'H100', memoryGb: 80, usdPerHour: 3.95 },
];

/** Where MODAL_GPUS' prices came from: check modal.com/pricing before relying on them. */
export const MODAL_PRICE_NOTE =
  "Modal's per-second GPU prices as published in 2026 (modal.com/pricing; not checked against the live page here), rounded to the cent per hour; billed only while a container runs, plus CPU and memory.";

export function isModalGpu(value: unknown): value is ModalGpu {
  return typeof value === 'string' && (MODAL_GPU_IDS as readonly string[]).includes(value);
}
