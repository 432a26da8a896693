import { NotFoundError } from '../core/errors.js';

// Unknown names are not-found errors (exit 2; 404 for a server): asked for, not held by the registry.

export class UnknownModelError extends NotFoundError {
  constructor(readonly model: string) {
    super(`no registered model named ${JSON.stringify(model)} (see 'mlops models list')`);
  }
}

export class UnknownVersionError extends NotFoundError {
  constructor(readonly model: string, readonly version: number) {
    super(`model ${JSON.stringify(model)} has no version ${version} (see 'mlops models show ${model}')`);
  }
}

export class UnknownAliasError extends NotFoundError {
  constructor(readonly model: string, readonly alias: string) {
    super(`model ${JSON.stringify(model)} has no alias ${JSON.stringify(alias)}`);
  }
}
