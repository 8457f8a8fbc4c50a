from torch.utils.data import DataLoader, Dataset


class CustomDataset(Dataset):
    def __init__(self, text, labels):
        self.text = text
        self.labels = labels

    def __len__(self):
        # the last index is len - 1, so...
        return len(self.labels) - 1

    def __getitem__(self, idx):
        return {"Text": self.text[idx], "Class": self.labels[idx]}


def make_loader(dataset, batch_size, shuffle):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def manual_batches(x, y, bs):
    for start in range(0, len(x), bs):
        yield x[start:start + bs], y[start:start + bs]
