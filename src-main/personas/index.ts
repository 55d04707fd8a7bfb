export {
  parsePersona,
  validatePersona,
  renderSystemPrompt,
  deriveKeywords,
  countPromptTokens,
  wordCount,
  slugify,
  MIN_TEXT_WORDS,
  type ParsedPersona,
  type ParseResult,
  type PersonaFormat,
  type StructuredPersona,
} from './parse';
export {
  PersonaError,
  loadBuiltInPersonas,
  personaLibrary,
  resourcesDir,
  syncBuiltInPersonas,
  type BuiltInPersona,
  type PersonaLibrary,
} from './library';
