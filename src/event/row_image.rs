//! One row image: every column's value in Canal's string form, kept in a single text buffer.
//!
//! Decoding renders every value of every row, so a row costs two allocations (the text and the
//! slots) instead of one per value; values are written straight into the buffer by
//! [`RowImage::push_text_with`].
//!
//! Invariant: each [`Slot::Text`] range lies inside `text` on character boundaries, because it is
//! recorded around whole `push_str`s; slots are in column order and ranges never overlap.

use std::fmt;
use std::ops::Range;

/// One column's value in a row image, borrowed from the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// Not part of this image (binlog_row_image=MINIMAL/NOBLOB): unknown, not NULL.
    Absent,
    Null,
    Text(&'a str),
}

impl<'a> Cell<'a> {
    pub fn as_text(self) -> Option<&'a str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_present(self) -> bool {
        !matches!(self, Self::Absent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Absent,
    Null,
    Text(Range<usize>),
}

/// All columns of a table, in table order.
#[derive(Clone, Default)]
pub struct RowImage {
    text: String,
    slots: Vec<Slot>,
}

impl RowImage {
    /// An empty image with room for `columns` values of `text_bytes` bytes in all.
    pub fn with_capacity(columns: usize, text_bytes: usize) -> Self {
        Self { text: String::with_capacity(text_bytes), slots: Vec::with_capacity(columns) }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn get(&self, column: usize) -> Option<Cell<'_>> {
        self.slots.get(column).map(|slot| self.cell(slot))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Cell<'_>> + '_ {
        self.slots.iter().map(|slot| self.cell(slot))
    }

    /// Bytes of rendered text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Approximate memory held, for byte-bounded queues.
    pub fn size_bytes(&self) -> usize {
        self.text.capacity() + self.slots.capacity() * size_of::<Slot>()
    }

    pub fn push_absent(&mut self) {
        self.slots.push(Slot::Absent);
    }

    pub fn push_null(&mut self) {
        self.slots.push(Slot::Null);
    }

    pub fn push_text(&mut self, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        self.slots.push(Slot::Text(start..self.text.len()));
    }

    /// Append a value that `render` writes into the image's buffer. On error the image holds a
    /// partial value and must be dropped (the caller stops decoding the row).
    pub fn push_text_with<E>(&mut self, render: impl FnOnce(&mut String) -> Result<(), E>) -> Result<(), E> {
        let start = self.text.len();
        render(&mut self.text)?;
        self.slots.push(Slot::Text(start..self.text.len()));
        Ok(())
    }

    fn cell(&self, slot: &Slot) -> Cell<'_> {
        match slot {
            Slot::Absent => Cell::Absent,
            Slot::Null => Cell::Null,
            Slot::Text(range) => Cell::Text(&self.text[range.clone()]),
        }
    }
}

impl<'a> FromIterator<Cell<'a>> for RowImage {
    fn from_iter<I: IntoIterator<Item = Cell<'a>>>(cells: I) -> Self {
        let mut image = Self::default();
        for cell in cells {
            match cell {
                Cell::Absent => image.push_absent(),
                Cell::Null => image.push_null(),
                Cell::Text(t) => image.push_text(t),
            }
        }
        image
    }
}

impl<'a, const N: usize> From<[Cell<'a>; N]> for RowImage {
    fn from(cells: [Cell<'a>; N]) -> Self {
        cells.into_iter().collect()
    }
}

/// Equal when the cells are, however the buffers were filled.
impl PartialEq for RowImage {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for RowImage {}

impl fmt::Debug for RowImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_come_back_in_column_order() {
        let mut image = RowImage::with_capacity(4, 8);
        image.push_text("42");
        image.push_null();
        image.push_absent();
        image
            .push_text_with(|out| {
                out.push_str("ä€");
                Ok::<_, ()>(())
            })
            .unwrap();
        assert_eq!(image.len(), 4);
        let cells: Vec<Cell<'_>> = image.iter().collect();
        assert_eq!(cells, [Cell::Text("42"), Cell::Null, Cell::Absent, Cell::Text("ä€")]);
        assert_eq!(image.get(3), Some(Cell::Text("ä€")));
        assert_eq!(image.get(4), None);
        assert_eq!(image.text_len(), 2 + "ä€".len());
    }

    #[test]
    fn images_compare_by_cells() {
        let built: RowImage = [Cell::Text("1"), Cell::Text(""), Cell::Null].into_iter().collect();
        let mut pushed = RowImage::with_capacity(0, 0);
        pushed
            .push_text_with(|out| {
                out.push('1');
                Ok::<_, ()>(())
            })
            .unwrap();
        pushed.push_text("");
        pushed.push_null();
        assert_eq!(built, pushed);
        let other: RowImage = [Cell::Text("1"), Cell::Null, Cell::Null].into_iter().collect();
        assert_ne!(built, other, "an empty string is not NULL");
    }
}
