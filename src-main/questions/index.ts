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
  importCharacterLlm,
  parseCharacterLlm,
  parsePromptedOutput,
  type CharacterPair,
  type CharacterLlmStats,
} from './character-llm';
