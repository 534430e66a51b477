import { describe, expect, it } from 'vitest';
import { parseYamlSubset, YamlSubsetError } from './yaml-subset.js';

describe('parseYamlSubset', () => {
  it('reads nested mappings, sequences, `- key:` items and flow sequences', () => {
    const text = [
      '# comment',
      'name: demo',
      'services:',
      '  a:',
      '    image: mysql:8.4   # trailing comment',
      '    command: ["sh", "-c", "echo \\"a: b\\" # not a comment", \'it\'\'s\']',
      '    ports:',
      '      - "127.0.0.1:80:80"',
      '      - 443',
      '    depends_on:',
      '      b:',
      '        condition: service_healthy',
      '    list:',
      '    - x: 1',
      '      y: [1, 2.5, true, null, ~, plain text]',
      '    -',
      '      - nested',
      'volumes:',
      '  data:',
    ].join('\n');
    expect(parseYamlSubset(text)).toEqual({
      name: 'demo',
      services: {
        a: {
          image: 'mysql:8.4',
          command: ['sh', '-c', 'echo "a: b" # not a comment', "it's"],
          ports: ['127.0.0.1:80:80', 443],
          depends_on: { b: { condition: 'service_healthy' } },
          list: [{ x: 1, y: [1, 2.5, true, null, null, 'plain text'] }, ['nested']],
        },
      },
      volumes: { data: null },
    });
  });

  it.each([
    ['a: &anchor 1', /anchors, tags, block scalars/],
    ['a: *alias', /anchors, tags, block scalars/],
    ['a: |\n  text', /block scalars/],
    ['a: {b: 1}', /flow mappings/],
    ['a: [[1]]', /nested flow collections/],
    ['a: [1,\n  2]', /must end on its line/],
    ['a: 1\na: 2', /duplicate key 'a'/],
    ['a: b\n  c: d', /unexpected indentation/],
    ['a: plain\n  continued', /unexpected indentation/],
    ['a:\n\t- x', /tab in indentation/],
    ['a: "open', /unterminated/],
    ['---\na: 1', /document markers/],
    ['a: 0x1F', /hex, octal/],
    ['just text', /expected 'key: value'/],
  ])('refuses %j', (text, message) => {
    expect(() => parseYamlSubset(text)).toThrow(YamlSubsetError);
    expect(() => parseYamlSubset(text)).toThrow(message);
  });

  it('names the line of the problem', () => {
    expect(() => parseYamlSubset('a: 1\nb:\n  c: &x 2')).toThrow(/^line 3: /);
  });
});
