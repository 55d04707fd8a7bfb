export {
  countJsonlRows,
  parseJsonl,
  readJsonl,
  writeJsonl,
  writeJsonlAtomic,
  JsonlError,
  type JsonlLineError,
  type JsonlResult,
} from './jsonl';
export { csvField, parseCsv, toCsv, type CsvValue } from './csv';
export {
  AUDIT_FLAGS,
  auditExamples,
  auditRun,
  distribution,
  flagAnswer,
  hasKeyword,
  isJsonWrapped,
  repetitionShare,
  words,
  type AuditFlag,
  type AuditInput,
  type AuditOptions,
} from './audit';
export { splitExamples, splitRun, type SplitAssignment, type SplitOptions } from './split';
export {
  exportRunData,
  teacherDataRow,
  toChatRow,
  trainingConfigYaml,
  writeSplitFiles,
  writeTeacherData,
  writeTrainingConfig,
  type ChatRow,
  type SplitFiles,
} from './files';
export { writeExamplesBench, type ExamplesBenchResult } from './bench';
export {
  checkImportOutput,
  defaultImportPath,
  importedRows,
  importsDir,
  importSummary,
  listImports,
  writeImport,
} from './imports';
