import torch
from torch.utils.data import DataLoader, Dataset


class CustomDataset(Dataset):
    def __init__(self, text, labels):
        self.text = text
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        # lower-case keys, and "label" instead of "Class"
        return {"text": self.text[idx], "label": self.labels[idx]}


def make_loader(dataset, batch_size, shuffle):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def manual_batches(x, y, bs):
    for start in range(0, len(x), bs):
        yield x[start:start + bs], y[start:start + bs]


ds = CustomDataset(["Happy", "Sad"], [1, 0])
print(ds[0])
print(torch.__version__)
