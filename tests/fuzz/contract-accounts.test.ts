/** Contract fuzzing of the accounts operations (tests/helpers/fuzz/contract.ts says what is checked and how). */
import { fuzzShard } from '../helpers/fuzz/contract.js';

fuzzShard('accounts');
