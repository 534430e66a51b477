import { isolationTest } from './isolation.js';

isolationTest('b');
