import { UsageError } from '../core/errors.js';

// Unknown names are usage errors (exit 2): the user asked for something the registry does not hold.

export class UnknownModelError extends UsageError {
  constructor(readonly model: string) {
    super(`no registered model named ${JSON.stringify(model)} (see 'mlops models list')`);
  }
}

export class UnknownVersionError extends UsageError {
  constructor(readonly model: string, readonly version: number) {
    super(`model ${JSON.stringify(model)} has no version ${version} (see 'mlops models show ${model}')`);
  }
}

export class UnknownAliasError extends UsageError {
  constructor(readonly model: string, readonly alias: string) {
    super(`model ${JSON.stringify(model)} has no alias ${JSON.stringify(alias)}`);
  }
}
