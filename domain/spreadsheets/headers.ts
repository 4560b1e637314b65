/** A header cell as the column's name: the template's “*” marks, stray spaces and a bracketed note (姓名（必填）, 学号(选填)) dropped. */
export const plainHeader = (text: string) => text.replace(/[（(][^）)]*[）)]/g, '').replace(/[\s*＊]/g, '');
