/** Assembles the schema: importing each module registers its types and fields. */
import { builder } from './builder.js';
import './interaction.js';
import './session.js';
import './metrics.js';
import './alerts.js';
import './alert-rules.js';
import './clock-skew.js';
import './trace.js';
import './releases.js';
import './improvements.js';

export const schema = builder.toSchema({ sortSchema: false });
