/** Contract fuzzing of the publishing operations (tests/helpers/fuzz/contract.ts says what is checked and how). */
import { fuzzShard } from '../helpers/fuzz/contract.js';

fuzzShard('publishing');
