import { isolationTest } from './isolation.js';

isolationTest('a');
