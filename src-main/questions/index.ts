export {
  generateQuestions,
  generateQuestionSet,
  paraphraseQuestions,
  type GenerateQuestionsOptions,
  type Paraphraser,
  type Question,
  type QuestionStats,
} from './generate';
export {
  fillTemplate,
  loadTemplates,
  loadVocabulary,
  questionsDir,
  templateSlots,
  QuestionsError,
  type QuestionTemplate,
  type TemplateSet,
  type Vocabulary,
} from './templates';
export { mulberry32, shuffled } from './prng';
export {
  DuplicateIndex,
  type DuplicateMatch,
  jaccard,
  normalizeText,
  shingles,
  textWords,
  NEAR_DUPLICATE_THRESHOLD,
  type DuplicateKind,
} from './similarity';
export {
  loadCapabilitySet,
  loadSafetySet,
  isCapabilityCorrect,
  isRefusal,
  type CapabilityItem,
  type SafetyItem,
  type SafetySet,
} from './eval-sets';
export {
  characterLlmFromRecords,
  importCharacterLlm,
  parseCharacterLlm,
  parsePromptedOutput,
  type CharacterPair,
  type CharacterLlmStats,
} from './character-llm';
export { importData, importText, type ImportOptions, type ImportResult } from './import-data';
export { pairsFromRecords, type ImportedPair, type PairsFromRecords } from './import-formats';
export {
  detectLayout,
  LAYOUT_NAMES,
  layoutOf,
  readRecords,
  resolveLayout,
  type Detection,
  type ImportRecord,
  type ImportSkip,
  type RecordSet,
} from './import-records';
export { decodeText, readTextFile, type DecodedText } from './import-text';
