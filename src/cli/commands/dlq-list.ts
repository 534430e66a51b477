/** `outbox-cache dlq list`: the dead-letter topic grouped by error code. */
import { describeSettings } from '../../config/settings.js';
import { groupByCode, type DeadLetter } from '../../operations/dead-letters.js';
import { readDeadLetters } from '../../operations/dead-letter-topic.js';
import { DLQ_LIST_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command } from '../command.js';
import { kafkaFromSettings, kafkaProblems, parseOperationArgs, progressBar } from './operations-options.js';

/** One dead letter as a line of text: where it is, where it came from, why (no payload bytes). */
export function describeDeadLetter(letter: DeadLetter): string {
  const from = letter.original ? `${letter.original.topic} ${letter.original.partition}:${letter.original.offset}` : '(origin unknown)';
  const key = letter.key === null ? '' : ` key ${JSON.stringify(letter.key.toString('utf8').slice(0, 80))}`;
  return `  ${letter.partition}:${letter.offset}  from ${from}${key}  ${letter.message}`;
}

function asJson(letter: DeadLetter): string {
  return JSON.stringify({
    partition: letter.partition, offset: letter.offset, code: letter.code, message: letter.message,
    original: letter.original ?? null, key: letter.key?.toString('utf8') ?? null,
    valueBytes: letter.value?.length ?? 0, timestamp: letter.timestamp,
  });
}

export const dlqListCommand: Command = {
  path: ['dlq', 'list'],
  summary: 'List the dead-letter topic grouped by error code, with each record\'s origin',
  usage: [
    'Usage: outbox-cache dlq list [options]',
    '',
    'Reads the dead-letter topic from its start to its current end (committing nothing) and prints',
    'the dead letters grouped by error code, largest group first: for each, its dead-letter',
    'partition:offset (what `dlq replay --offsets` selects), the original topic, partition and',
    'offset, the key and the error message. Values are never printed, only their size with --json.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(DLQ_LIST_SETTINGS),
    '',
    'Exit codes: 0 listed (also when empty), 1 Kafka failed, 2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings } = parseOperationArgs(ctx, DLQ_LIST_SETTINGS, { min: 0, max: 0, what: '' }, kafkaProblems);
    const progress = progressBar(ctx, 'records');
    const read = await readDeadLetters({
      kafka: kafkaFromSettings(settings), topic: settings.dlqTopic, signal: ctx.signal, onProgress: (n, total) => progress.update(n, total),
    }).finally(() => progress.stop());
    if (settings.json) {
      for (const letter of read.letters) ctx.stdout.write(`${asJson(letter)}\n`);
      return EXIT.OK;
    }
    if (!read.topicExists) {
      ctx.stdout.write(`no dead letters: topic ${settings.dlqTopic} does not exist\n`);
      return EXIT.OK;
    }
    const groups = groupByCode(read.letters);
    ctx.stdout.write(`${read.letters.length} dead letters in ${settings.dlqTopic}${read.aborted ? ' (stopped early: partial)' : ''}\n`);
    for (const group of groups) {
      ctx.stdout.write(`\n${group.code}: ${group.letters.length}\n`);
      for (const letter of group.letters.slice(0, settings.limit)) ctx.stdout.write(`${describeDeadLetter(letter)}\n`);
      if (group.letters.length > settings.limit) ctx.stdout.write(`  … ${group.letters.length - settings.limit} more (--limit)\n`);
    }
    return EXIT.OK;
  },
};
