import { describe, expect, it } from 'vitest';
import { CRM_COLUMNS, crmCsv, csvCell, suggestAction, tableCsv } from '../../../activities/report/csv';
import type { CrmRow } from '../../../activities/report/csv';

/** A strict RFC 4180 reader (CRLF records, quoted fields with doubled quotes), independent of the writer. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i += 1;
      } else {
        field += ch;
        i += 1;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (ch === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      if (ch === '"' || ch === '\n' || ch === '\r') throw new Error(`bare ${JSON.stringify(ch)} at ${i}`);
      field += ch;
      i += 1;
    }
  }
  if (quoted || field !== '' || record.length > 0) throw new Error('unterminated record');
  return records;
}

describe('csvCell', () => {
  it('quotes fields with a comma, quote or line break (RFC 4180)', () => {
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\rlf')).toBe('"cr\rlf"');
  });

  it('neutralizes text that a spreadsheet would run as a formula', () => {
    expect(csvCell('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvCell('+44 20 7946 0000')).toBe("'+44 20 7946 0000");
    expect(csvCell('-17')).toBe("'-17");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('neutralizes lead-ins hidden behind white space or written full-width', () => {
    for (const lead of [' ', '  ', '\u00a0', '\u3000', '\u200b', '\ufeff', '\n']) {
      expect(csvCell(`${lead}=1+1`)).toBe(lead === '\n' ? `"'${lead}=1+1"` : `'${lead}=1+1`);
    }
    for (const fullWidth of ['\uff1d', '\uff0b', '\uff0d', '\uff20']) {
      expect(csvCell(`${fullWidth}cmd`)).toBe(`'${fullWidth}cmd`);
    }
    expect(csvCell(' plain')).toBe(' plain');
    expect(csvCell('\u00a0Ж')).toBe('\u00a0Ж');
  });

  it('writes numbers plainly and missing values as empty', () => {
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('tableCsv', () => {
  it('ends every record with CRLF and rejects ragged rows', () => {
    expect(tableCsv(['a', 'b'], [[1, 'x']])).toBe('a,b\r\n1,x\r\n');
    expect(() => tableCsv(['a', 'b'], [[1]])).toThrow('tableCsv: row 0 has 1 fields, the header has 2');
  });
});

describe('crmCsv', () => {
  const rows: CrmRow[] = [
    {
      customerId: '12346',
      segment: 'High-value loyal',
      persona: 'High-value loyal',
      rfmCell: '545',
      personaRule: 'monetary_mean_order >= 512.3 and items_per_order >= 240',
      clv: 1234.5678,
      pAlive: 0.987654,
      churnProbability: 0.0123456,
      suggestedAction: 'Enrol in a VIP tier, with early access',
      recommendations: [
        { productId: '85123A', name: 'WHITE HANGING HEART T-LIGHT HOLDER' },
        { productId: '22423', name: '=HYPERLINK("x")' },
      ],
      topCategory: { category: 'Kitchen', reason: 'bought together with Garden in 41% of its orders' },
    },
    {
      customerId: '=1+1',
      segment: '<script>alert(1)</script> & "quotes"',
      persona: '-persona\nwith newline',
      rfmCell: '',
      clv: null,
      pAlive: Number.NaN,
      churnProbability: 0.5,
      suggestedAction: '@SUM(1)',
    },
  ];

  it('writes one row per customer that reads back field for field', () => {
    const text = crmCsv(rows);
    expect(
      text.startsWith(
        'customer_id,segment,persona,rfm_cell,persona_rule,clv,p_alive,churn_probability,suggested_action,' +
          'recommendation_1_id,recommendation_1_name,recommendation_2_id,recommendation_2_name,' +
          'recommendation_3_id,recommendation_3_name,' +
          'high_value_probability,high_value_lower95,high_value_upper95,expected_purchases,' +
          'recommended_category,recommended_category_reason\r\n',
      ),
    ).toBe(true);
    const records = parseCsv(text);
    expect(records).toEqual([
      [...CRM_COLUMNS],
      [
        '12346',
        'High-value loyal',
        'High-value loyal',
        '545',
        'monetary_mean_order >= 512.3 and items_per_order >= 240',
        '1234.57',
        '0.9877',
        '0.0123',
        'Enrol in a VIP tier, with early access',
        '85123A',
        'WHITE HANGING HEART T-LIGHT HOLDER',
        '22423',
        `'=HYPERLINK("x")`,
        '',
        '',
        ...Array.from({ length: 4 }, () => ''),
        'Kitchen',
        'bought together with Garden in 41% of its orders',
      ],
      [
        "'=1+1",
        '<script>alert(1)</script> & "quotes"',
        "'-persona\nwith newline",
        '',
        '',
        '',
        '',
        '0.5',
        "'@SUM(1)",
        ...Array.from({ length: 12 }, () => ''),
      ],
    ]);
  });

  it('names the row and field of a bad value', () => {
    const bad = [{ ...rows[0] }, { ...rows[0], pAlive: 1.2 }];
    expect(() => crmCsv(bad)).toThrow('crmCsv: pAlive must be in [0, 1] (row 1, value 1.2)');
    expect(() => crmCsv([{ ...rows[0], customerId: '' }])).toThrow(
      'crmCsv: customerId must be a non-empty string (row 0)',
    );
  });
});

describe('suggestAction', () => {
  it("takes the persona's first action and flags retention cases", () => {
    const personaActions = ['Send a personal win-back offer', 'Survey for the reason'];
    expect(suggestAction({ personaActions, churnProbability: 0.2 })).toBe('Send a personal win-back offer');
    expect(suggestAction({ personaActions, churnProbability: 0.5 })).toBe(
      'Retention priority: Send a personal win-back offer',
    );
    expect(suggestAction({ personaActions, churnProbability: 0.7, retentionThreshold: 0.8 })).toBe(
      'Send a personal win-back offer',
    );
    expect(suggestAction({ personaActions: [], churnProbability: null })).toBe('No action suggested');
  });
});
