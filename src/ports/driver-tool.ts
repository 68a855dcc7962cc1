/**
 * Injects drivers into the restored, offline Windows so it boots on new hardware (seed 000 §5.6:
 * "driver auto update"; NIC and storage drivers, virtio under KVM). On Windows: dism /Image:…
 * /Add-Driver with the packs matched to the machine's hardware IDs.
 *
 * Implementations:
 * - MUST answer with the step's real outcome (see boot-tool.ts): `done` with what was added, `skipped`
 *   with the reason (no Windows volume among the restored ones, no matching driver, not on Windows),
 *   `failed` with a stable code and the tool's words;
 * - MUST only add drivers, never remove or replace the system's own.
 */
import type { StepOutcome } from '../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../core/units.ts';
import type { RestoredSystem } from './boot-tool.ts';

export interface DriverInjectionRequest {
  readonly system: RestoredSystem;
  /** PnP hardware IDs of this machine's devices, from its inventory. */
  readonly hardwareIds: readonly string[];
}

export interface DriverTool {
  injectDrivers(request: DriverInjectionRequest, signal?: AbortSignalLike): Promise<StepOutcome>;
}
