import type { Runtime } from './runtime.js';
import { serviceStates } from '../services/registry.js';

/**
 * GET /_nimbus/health (and /_localstack/health, so tools that wait for a local AWS work):
 * the version and each service's state.
 */
export function healthDocument(runtime: Runtime): Record<string, unknown> {
  return {
    version: runtime.version,
    edition: 'nimbus',
    storage: runtime.store.kind,
    services: serviceStates(runtime.services.all()),
  };
}
