/** Raised when training produces a non-finite loss or parameter. */
export class ModelFitError extends Error {
  constructor(message: string, readonly epoch: number) {
    super(message);
    this.name = 'ModelFitError';
  }
}
