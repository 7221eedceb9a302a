// A consumer child process of the soak: the same program as the fault tests'
// consumer (configuration as JSON in NRS_CONSUMER; see test/fixtures/consumer-app.ts).
import { main } from '../fixtures/consumer-app.js';

void main();
