export {
  computeSavings,
  costPerQuery,
  trainingCostUsd,
  type SavingsInput,
  type SavingsPrices,
  type SavingsResult,
} from './savings';
export {
  measureSavings,
  summariseOutputs,
  type MeasureSavingsInput,
  type MeasuredSide,
  type SavingsMeasurement,
} from './measure';
