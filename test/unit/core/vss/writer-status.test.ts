import { describe, expect, it } from 'vitest';
import { formatHresult, hresultName, isRetryableHresult } from '../../../../src/core/vss/hresult.ts';
import { judgeWriterStatus, writerFailureError, writerStateName, type WriterStatus } from '../../../../src/core/vss/writer-status.ts';

const ASR = 'be000cbe-11fe-4426-9c58-531aa6355fc4';
const SYSTEM = 'e8132975-6f93-4464-a53e-1050253ae220';
const WMI = 'a6ad56c2-b509-4e6c-bb19-49d8f43532f0';

const status = (writerId: string, name: string, state: number, failure = 0, extra: Partial<WriterStatus> = {}): WriterStatus =>
  ({ instanceId: '00000000-0000-0000-0000-000000000001', writerId, name, state, failure, ...extra });

describe('HRESULT names', () => {
  it('formats known and unknown values, signed or not', () => {
    expect(formatHresult(0x800423f4 | 0)).toBe('0x800423f4 VSS_E_WRITERERROR_NONRETRYABLE');
    expect(formatHresult(0x800423f4)).toBe('0x800423f4 VSS_E_WRITERERROR_NONRETRYABLE');
    expect(formatHresult(0x80042318 | 0)).toBe('0x80042318 VSS_E_WRITER_INFRASTRUCTURE');
    expect(formatHresult(0x1234)).toBe('0x00001234');
    expect(hresultName(0x0004230a)).toBe('VSS_S_ASYNC_FINISHED');
  });

  it('knows which writer errors are worth a retry', () => {
    expect(isRetryableHresult(0x800423f3 | 0)).toBe(true);
    expect(isRetryableHresult(0x800423f4 | 0)).toBe(false);
  });
});

describe('judgeWriterStatus', () => {
  it('passes stable writers', () => {
    expect(judgeWriterStatus([status(ASR, 'ASR Writer', 1), status(SYSTEM, 'System Writer', 5)], [])).toEqual({ fatal: [], warnings: [] });
  });

  it('fails on the ASR writer always and on required writers, warns on the rest', () => {
    const judged = judgeWriterStatus([
      status(ASR, 'ASR Writer', 7, 0x800423f4 | 0),
      status(SYSTEM.toUpperCase(), 'System Writer', 1, 0x800423f3 | 0),
      status(WMI, 'WMI Writer', 9, 0x800423f2 | 0),
    ], [`{${SYSTEM}}`]);
    expect(judged.fatal.map((p) => p.status.name)).toEqual(['ASR Writer', 'System Writer']);
    expect(judged.warnings.map((p) => p.text)).toEqual(['writer "WMI Writer" {a6ad56c2-b509-4e6c-bb19-49d8f43532f0} is FAILED_AT_FREEZE, 0x800423f2 VSS_E_WRITERERROR_TIMEOUT']);
  });

  it('includes the application\'s own result and message (GetWriterStatusEx)', () => {
    const judged = judgeWriterStatus([status(ASR, 'ASR Writer', 7, 0x800423f4 | 0, { applicationResult: 0x80070005 | 0, applicationMessage: ' Disk 3 is offline ' })], []);
    expect(judged.fatal[0]!.text).toBe('writer "ASR Writer" {be000cbe-11fe-4426-9c58-531aa6355fc4} is FAILED_AT_PREPARE_BACKUP, 0x800423f4 VSS_E_WRITERERROR_NONRETRYABLE, application 0x80070005 E_ACCESSDENIED, "Disk 3 is offline"');
  });
});

describe('writerFailureError', () => {
  it('names the phase and the writer, and is retryable only when every failure is', () => {
    const judged = judgeWriterStatus([status(ASR, 'ASR Writer', 7, 0x800423f3 | 0)], []);
    const e = writerFailureError('prepare-for-backup', judged.fatal, new Error('cause'));
    expect(e.code).toBe('vss.writer-failed');
    expect(e.message).toBe('VSS backup failed after prepare-for-backup: writer "ASR Writer" {be000cbe-11fe-4426-9c58-531aa6355fc4} is FAILED_AT_PREPARE_BACKUP, 0x800423f3 VSS_E_WRITERERROR_RETRYABLE');
    expect(e.data).toMatchObject({ phase: 'prepare-for-backup', writer: 'ASR Writer', writerId: ASR, state: 'FAILED_AT_PREPARE_BACKUP' });
    expect(e.retryable).toBe(true);
    expect((e.cause as Error).message).toBe('cause');
    expect(writerStateName(42)).toBe('STATE_42');
  });
});
