/** `outbox-cache dlq replay`: sends selected dead letters back to their original topics. */
import { describeSettings } from '../../config/settings.js';
import { DEFAULT_TOPIC_PATTERN } from '../../config/sink.js';
import { ConfigError } from '../../errors.js';
import { isSelected, parseOffsetRange, type ReplaySelection } from '../../operations/dead-letters.js';
import { readDeadLetters, replayDeadLetters } from '../../operations/dead-letter-topic.js';
import { DLQ_REPLAY_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command } from '../command.js';
import { describeDeadLetter } from './dlq-list.js';
import { kafkaFromSettings, kafkaProblems, parseOperationArgs, progressBar } from './operations-options.js';

export const dlqReplayCommand: Command = {
  path: ['dlq', 'replay'],
  summary: 'Replay selected dead letters to their original topics once their cause is fixed',
  usage: [
    'Usage: outbox-cache dlq replay (--code CODES | --offsets [P:]FROM-TO | --all) [options]',
    '',
    'Reads the dead-letter topic, selects records (every given criterion must match) and produces',
    'each to its original topic and partition unchanged: same key, value, timestamp and headers,',
    'without the headers the sink added. The sink then applies them again; a record applied twice',
    'changes nothing (the version guard). Every selected record is checked first: the whole',
    'replay is refused when one names a topic the sink does not consume (KAFKA_TOPICS, or',
    'KAFKA_TOPIC_PATTERN, as the sink reads them), a missing topic or partition.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(DLQ_REPLAY_SETTINGS),
    '',
    'Exit codes: 0 replayed (or stopped by a signal between batches), 1 refused or Kafka failed,',
    '2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings } = parseOperationArgs(ctx, DLQ_REPLAY_SETTINGS, { min: 0, max: 0, what: '' }, (c) => [
      ...kafkaProblems(c),
      ...(!c.all && !c.codes?.length && c.offsets === undefined
        ? [{ setting: '--code / --offsets / --all', message: 'choose what to replay: --code CODES, --offsets [P:]FROM-TO, or --all' }] : []),
      ...(c.topics && c.topicPattern ? [{ setting: 'KAFKA_TOPICS', message: 'set KAFKA_TOPICS or KAFKA_TOPIC_PATTERN, not both' }] : []),
    ]);
    const selection: ReplaySelection = {
      codes: settings.codes, all: settings.all,
      offsets: settings.offsets === undefined ? undefined : parseOffsetRange(settings.offsets),
    };
    if (settings.offsets !== undefined && !selection.offsets) throw new ConfigError([{ setting: '--offsets', message: 'malformed' }]);
    const kafka = kafkaFromSettings(settings);
    const reading = progressBar(ctx, 'dead letters read');
    const read = await readDeadLetters({ kafka, topic: settings.dlqTopic, signal: ctx.signal, onProgress: (n, t) => reading.update(n, t) })
      .finally(() => reading.stop());
    if (read.aborted) {
      ctx.stderr.write('stopped before the dead-letter topic was read: nothing replayed\n');
      return EXIT.OK;
    }
    const selected = read.letters.filter((l) => isSelected(l, selection));
    ctx.stdout.write(`${selected.length} of ${read.letters.length} dead letters selected\n`);
    if (settings.dryRun) for (const letter of selected) ctx.stdout.write(`${describeDeadLetter(letter)}\n`);
    if (selected.length === 0) return EXIT.OK;
    const subscription = settings.topics
      ? { topics: settings.topics }
      : { pattern: new RegExp(settings.topicPattern ?? DEFAULT_TOPIC_PATTERN) };
    const sending = progressBar(ctx, 'records replayed');
    const result = await replayDeadLetters({
      kafka, letters: selected, subscription, signal: ctx.signal, dryRun: settings.dryRun, onProgress: (n, t) => sending.update(n, t),
    }).finally(() => sending.stop());
    const verb = settings.dryRun ? 'would replay' : 'replayed';
    ctx.stdout.write(`${verb} ${settings.dryRun ? selected.length : result.replayed} records${result.aborted ? ' (stopped early)' : ''}\n`);
    return EXIT.OK;
  },
};
