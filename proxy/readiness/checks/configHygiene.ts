/**
 * Config mistakes other gateways ignore silently. Unknown keys and unset
 * `${ENV}` references already stop the config from loading (checked first, as
 * config.valid); here: a model alias shadowed by another (two aliases that
 * differ only in case, or an alias named like a model another alias routes to
 * elsewhere).
 */
import { listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'config.shadowed-models';
const TITLE = 'no model alias is shadowed by another';

export function checkShadowedModels(inputs: ReadinessInputs): CheckResult {
  const aliases = Object.keys(inputs.config.models);
  const found: string[] = [];
  const byLower = new Map<string, string>();
  for (const alias of aliases) {
    const other = byLower.get(alias.toLowerCase());
    if (other !== undefined) found.push(`${other} and ${alias} differ only in case`);
    byLower.set(alias.toLowerCase(), alias);
  }
  for (const [alias, model] of Object.entries(inputs.config.models)) {
    for (const target of model.targets) {
      if (target.model !== alias && inputs.config.models[target.model] !== undefined) {
        found.push(`${alias} routes to model ${target.model}, which is also an alias routing elsewhere`);
      }
    }
  }
  if (found.length > 0) return warn(ID, TITLE, listed(found), 'rename the aliases so that a name means one thing');
  return pass(ID, TITLE, `${aliases.length} alias(es), none shadowed`);
}
